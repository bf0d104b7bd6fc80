"""How people and other systems reach hotline: the HTTP framework (route registry,
authentication, errors, proxies, metrics, the application factory, OpenAPI) and the live
socket. It knows no domain package: each one declares its own views and the composition
root (``wiring/``) includes them."""
