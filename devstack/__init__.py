"""The embedded local stack: moto for S3 and DynamoDB, the functions behind an API-Gateway-like router,
one ASGI origin served by uvicorn."""
