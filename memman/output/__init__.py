"""What memman shows: result Structs, text rendering, the terminal sanitiser and the audit trail."""
