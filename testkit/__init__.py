"""What the tests and the benchmarks both use, and no production package may import: the
fakes of the outside world on 127.0.0.1 (Twilio's REST API) and the server they run on."""
