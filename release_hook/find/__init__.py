"""Finding pins, one module per kind of thing found; `release_hook.pins` walks the file and calls them."""
