// Deletes the topics whose names match a regular expression, on the broker given.
// Run by deploy/dev/kafka.sh delete-topics as a single-file source program (Java 11+) with the
// broker's jars on the classpath: java -cp '.run/kafka/libs/*' DeleteTopics.java BROKER REGEX
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class DeleteTopics {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DeleteTopics BROKER REGEX");
            System.exit(2);
        }
        Pattern pattern = Pattern.compile(args[1]);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        try (Admin admin = Admin.create(props)) {
            List<String> doomed = admin.listTopics().names().get().stream()
                    .filter(t -> pattern.matcher(t).find())
                    .sorted()
                    .collect(Collectors.toList());
            if (!doomed.isEmpty()) {
                admin.deleteTopics(doomed).all().get();
            }
            System.out.println("deleted " + doomed.size() + " topics");
        }
    }
}
