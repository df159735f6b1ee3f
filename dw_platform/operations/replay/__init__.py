"""`dw replay`: isolated records converted again with the table's current schema, delivered once."""
