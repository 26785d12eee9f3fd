"""Authoring: writing source notebooks, building release/ and solutions/ and the demo class from source/, and the
self-test of a source notebook."""
