"""Who is calling: bearer tokens for people (``tokens``, ``users``), API keys for third-party
clients (``keys``, ``rate_limit``), the caller of a request (``caller``) and what it may do
(``permissions``)."""
