"""Remote provider clients (embeddings today; LLM and rerank share the seam).

Everything here imports httpx, so nothing on the `remember` / keyword `recall`
hot path may import this package at module level. `http.py` is the one place
httpx errors become memman errors.
"""
