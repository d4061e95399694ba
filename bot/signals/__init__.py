"""Live signals: billing and helpdesk webhooks as another way in.

A way in turns outside data into the same subscriber changes and events the CSV importers
produce, through the same upsert (`bot.importers.merge.Merger`). A delivery goes:

    receiver (verify on raw bytes, identify)  ->  journal (stored before the 2xx)
        ->  parse into `Signal`s  ->  apply (upsert subscriber, add events)  ->  alerts

`model` holds the vendor-neutral `Signal`; `intake` the journal-then-apply service; `apply`
the upsert; one module per vendor (`stripe`, ...) knows that vendor's signing and payloads.
"""
