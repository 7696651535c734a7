"""Tables: Table, FreeTable and the tiers; declaring a class, insert, update1 and cascading delete."""
