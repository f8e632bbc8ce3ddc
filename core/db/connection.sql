-- Queries about a connection itself, not about any table.

-- name: connection_ping
-- One round trip: the connection and the server behind it answer.
SELECT 1
