"""LLM supervision: an OpenAI-compatible chat client and the stages that use it.

    client.py     ChatClient: /chat/completions over httpx, JSON mode, strict msgspec
                  parsing with one repair retry, token and latency accounting
    transport.py  the one seam where httpx errors become memman errors (retries,
                  Retry-After, key redaction)
    prompts.py    every prompt memman sends, each with a version and a hash
    schemas.py    the replies the prompts ask for, as msgspec Structs
    stages.py     LLMExtractor (with the quality gate), LLMReconciler, LLMEnricher
    causal.py     LLMCausalInferer: cause -> effect edges among related memories
    expand.py     QueryExpander (`recall --expand`), cached per store
    rerank.py     Reranker: Voyage or a compatible /rerank endpoint

httpx is imported only inside this package (and only when a client is built),
never on the remember / keyword-recall hot path. See docs/llm.md.
"""
