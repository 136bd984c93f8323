"""Posting approved replies on the platforms the playbook names (no Textual).

The store calls `deliver.publish` between reading an approved draft and
recording that it was sent, outside its write transaction: the platform's
answer (post id and address, or the error) goes on the record as
`reply.published` or `reply.publish_failed`.
"""
