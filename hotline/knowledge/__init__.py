"""The knowledge base (知识库): articles the agents answer from, written by the centre
and by each enterprise for its own, reviewed before publication and kept in every
version; search and suggestion; the answers given with an article and the questions
no article answered (docs/knowledge.md)."""
