"""Quote of the day: the delivery pass (service), the chat commands (commands),
subscriptions, the exactly-once delivery protocol (deliveries), which quote next (rotation)
and due times (schedule)."""
