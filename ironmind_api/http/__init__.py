"""The request plumbing every route shares: headers, proxies, JSON, parsing, logs, limits."""
