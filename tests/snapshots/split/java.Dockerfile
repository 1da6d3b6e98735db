FROM maven:3.9-eclipse-temurin-21 AS java-build
WORKDIR /app
COPY pom.xml .
RUN mvn dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=java-build /app/target/app.jar /app/target/app.jar
EXPOSE 8080
CMD ["java", "-jar", "target/app.jar"]
