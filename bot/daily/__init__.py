"""Quote of the day: the delivery pass (service), the chat commands (commands), the bot's
membership changes (membership), start and stop with the application (jobs), the
``quotebot broadcast`` command line (cli), subscriptions, the exactly-once delivery protocol
(deliveries), which quote next (rotation) and due times (schedule)."""
