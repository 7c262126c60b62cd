"""Story links: a later memory that continues an earlier one's story.

A person tells a story over weeks ("I quit Stark Freight." ... "Kestrel
Health offered me the position."); a project's notes record a problem and,
sessions later, the decision it caused ("Manual auth deploys failed twice."
... "Moved auth onto the k8s cluster."). The later telling often shares no
word with the earlier one, so neither the keyword nor the static vector
channel relates them. The drain links them as it reads them (`story` edges,
workers/stories/links.py), by rules over a general vocabulary of life and
project events (workers/stories/lexicon.py); recall follows those edges from
its best matches (memman/recall/story.py).
"""
