"""An in-process fake of the Telegram Bot API for tests, the offline console and benchmarks:
the server (api), its methods (methods), incoming update builders (updates) and Telegram's
HTML and payload rules (html)."""
