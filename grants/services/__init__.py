"""Use cases: the only layer that writes. One function, one transaction, one actor, audited."""
