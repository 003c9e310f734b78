"""What is kept: the sessions table (one item per session, its state machine), the media bucket
(each file with the headers the CDN and players need) and the content cache's keys. The only
modules that call DynamoDB and S3."""
