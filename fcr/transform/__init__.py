"""Transform: link the loaded contacts into cases and count them into the metrics marts."""
