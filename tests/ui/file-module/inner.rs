// Only here so that rustc finds the module file; see ../file-module.rs.
