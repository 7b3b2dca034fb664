-- one scalar macro: the key legs of one interaction share (scoped to the customer); a lone contact is its own
create or replace temp macro interaction_key(customer_id, interaction_id, contact_id) as (
    coalesce('i:' || coalesce(customer_id, '') || chr(31) || interaction_id, 'c:' || contact_id)
)
