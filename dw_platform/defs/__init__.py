"""The defs folder (`dg.load_from_defs_folder`): one folder per warehouse, each a `WarehouseComponent`."""
