"""Progress lookup (工单查询): a citizen follows their order on a public page, by SMS and
through Open311, from its public status and timeline (docs/integrations.md)."""
