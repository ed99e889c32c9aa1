"""Response encoders: lxml documents built from plain data."""
