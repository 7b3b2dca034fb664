-- one scalar macro: the key legs of one interaction share (scoped to the customer); a lone contact is its own
create or replace temp macro interaction_key(customer_id, interaction_id, contact_id) as (
    -- the customer id is length-prefixed, so no customer and interaction id pair can spell another pair's key
    coalesce(
        'i:' || length(coalesce(customer_id, '')) || ':' || coalesce(customer_id, '') || interaction_id,
        'c:' || contact_id
    )
)
