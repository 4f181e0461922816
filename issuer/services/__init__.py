"""Use cases of the issuer: load institutions, import, issue, revoke, reissue, publish.

Each takes an `Issuer` (settings, database, clock, keys) and an `Actor` (who and from
where, for the audit log). Failures a user can fix raise `ServiceError` with one line.
"""
