"""Who is calling: tokens, the guard, accounts, sessions and their revocation."""
