"""Every notification is an alert, a ticket or a log. `parsers` (pure) read what
Alertmanager, Sentry and generic JSON senders post; `intake` stores, deduplicates and
classifies it by the team's policy (`routing`, pure); `delivery` sends Slack messages
from an outbox; `noise` (pure) measures notifications per day and replays a draft
policy; `services` write the routing policy, `selectors` read for the pages; `views`
and `api` (the intake webhooks) are the ways in."""
