"""oauth-sim: the OAuth 2.0 authorization code grant, all four parties on loopback."""
