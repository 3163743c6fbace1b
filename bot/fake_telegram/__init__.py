"""An in-process fake of the Telegram Bot API for tests, the offline console and benchmarks:
the core (api), its methods (methods), incoming update builders (updates), the state they
share (state), Telegram's HTML and payload rules (html), and the same fake over real HTTP
(server)."""
