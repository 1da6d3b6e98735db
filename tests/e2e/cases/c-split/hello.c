#include <stdio.h>

int main(void) {
    puts("hello from a two-stage build");
    return 0;
}
