"""`make bench`'s measurements, one module each: each takes the stack (or two), the plan and an engine,
and answers its part of the engine's section of bench/results/latest.json."""
