"""The core of the hotline system: work orders, lifecycle, history, calendar, users.

Imports nothing of aiohttp, socket.io or Twilio; the other packages depend on it."""
