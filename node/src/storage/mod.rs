//! Storage: the only module that names sled.
