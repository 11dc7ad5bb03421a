"""ownerbot: every support customer is someone's."""
