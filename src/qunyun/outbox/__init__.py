"""The outbox: every action qunyun takes is a row here before it is a platform call.

``enqueue`` writes the row in the caller's transaction (the decision and its
action commit together); ``claim`` hands due rows to a worker within the
platform's rate limits; ``deliver`` performs them through the connector and
records the outcome; ``recover`` settles rows a crashed worker left behind.
"""
