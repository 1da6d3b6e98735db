from greet.words import GREETING


def main() -> None:
    print(f"{GREETING} from greet")
