"""What memman accepts: validation at the edge, the secret detector, and bounds on config values."""
