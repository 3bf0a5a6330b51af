bench:
	./scripts/bench.sh

# The same benchmark on the 64-bit guest against qemu-system-x86_64.
bench64:
	./scripts/bench.sh 1 amd64
