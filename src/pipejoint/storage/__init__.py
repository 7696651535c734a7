"""Values that are more than a column: DataJoint's blob format, codecs, object stores, object references and their garbage collection."""
