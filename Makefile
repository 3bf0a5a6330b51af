bench:
	./scripts/bench.sh
