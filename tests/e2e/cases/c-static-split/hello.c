#include <stdio.h>

int main(void) {
    puts("hello from a static two-stage build");
    return 0;
}
