"""What the tests and the benchmarks both use, and no production package may import: the
fakes of the outside world on 127.0.0.1 (Twilio's REST API), the server they run on, and
orders made the quick way."""
