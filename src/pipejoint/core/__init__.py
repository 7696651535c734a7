"""The ground floor: attribute types, Attribute and Heading, value checking and conversion, DataJoint's naming rules, and the meaning of the MySQL-flavoured fragment language. No database access."""
