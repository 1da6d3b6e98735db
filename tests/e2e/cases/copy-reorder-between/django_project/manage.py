print("hello from manage")
