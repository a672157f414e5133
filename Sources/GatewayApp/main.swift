print("meter-gateway")
