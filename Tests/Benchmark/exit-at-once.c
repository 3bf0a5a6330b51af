/* The smallest program for the fork-and-exec workload: exits at once. */
int main(void) { return 0; }
