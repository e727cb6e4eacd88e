"""One module per way of reaching a person; each turns a Message into one send."""
