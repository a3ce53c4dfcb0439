package dev.lambdaarch.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

/**
 * The Spark batch engine's driver (adapters/spark/; docs/design-decisions.md, "Batch engines").
 * Deliberately no logic of the batch job: the Node batch layer generates every statement
 * (shared/sql/) and sends them one JSON command per line on stdin; each gets one JSON reply
 * line on stdout. Spark's own logging goes to stderr (System.out is redirected there too, so
 * nothing else can corrupt the replies).
 *
 *   {"op":"lines","view":V,"paths":[...]}  view V(f, n, line): every line of the files, f the
 *                                           file's position in paths, n its line number (0-based)
 *   {"op":"json","view":V,"path":P,"schema":DDL}  view V over a JSON-lines file Node wrote
 *   {"op":"sql","sql":S}                   runs a statement (CREATE TEMP VIEW...)
 *   {"op":"table","view":V,"sql":S,"path":P}  the query's rows written as Parquet under P, and
 *                                           view V over them: a materialized step whose plan
 *                                           the next statements no longer carry
 *   {"op":"dump","sql":S,"path":P}          the query's rows as JSON lines into file P
 *   {"op":"hadoop","conf":{K:V,...}}        sets Hadoop settings (s3a: endpoint, credentials) on
 *                                           the session; sent on stdin so that no secret is on a
 *                                           command line, and never echoed
 *   {"op":"stop"}                           ends the session; so does the end of stdin
 *
 * Session settings come as -Dspark.* system properties (SparkConf reads them): the master, the
 * cores, the local dirs.
 */
public final class BatchDriver {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** monotonically_increasing_id: the partition index above bit 33, the row within it below. */
  private static final long LINE_MASK = (1L << 33) - 1;

  public static void main(String[] args) throws Exception {
    PrintStream replies = System.out;
    System.setOut(System.err);
    SparkSession spark = SparkSession.builder().appName("lambda-arch batch").getOrCreate();
    // The master and application id it got: a spark:// run shows an app-... id the master knows.
    ObjectNode ready = JSON.createObjectNode();
    ready.put("ok", true);
    ready.put("version", spark.version());
    ready.put("master", spark.sparkContext().master());
    ready.put("app", spark.sparkContext().applicationId());
    replies.println(JSON.writeValueAsString(ready));
    replies.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        JsonNode cmd = JSON.readTree(line);
        if ("stop".equals(cmd.path("op").asText())) break;
        ObjectNode reply = JSON.createObjectNode();
        try {
          reply.put("rows", run(spark, cmd));
          reply.put("ok", true);
        } catch (Exception e) {
          reply.put("ok", false);
          reply.put("error", String.valueOf(e.getMessage()));
        }
        replies.println(JSON.writeValueAsString(reply));
        replies.flush();
      }
    } finally {
      spark.stop();
    }
  }

  private static long run(SparkSession spark, JsonNode cmd) throws Exception {
    switch (cmd.path("op").asText()) {
      case "lines": {
        // One scan of all the files, each file's position joined back by its name. Each file is
        // one partition (gzip does not split; the session's maxPartitionBytes and openCostInBytes
        // of 1 TiB keep a plain file whole and alone), so the id's low 33 bits, the row within
        // the partition, are the line number.
        List<String> paths = new ArrayList<>();
        List<Row> positions = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode node : cmd.get("paths")) {
          String path = node.asText();
          String name = path.substring(path.lastIndexOf('/') + 1);
          names.add(name);
          positions.add(RowFactory.create(name, paths.size()));
          paths.add(path);
        }
        Dataset<Row> all = null;
        if (paths.isEmpty()) {
          all = spark.sql("SELECT CAST(NULL AS INT) AS f, CAST(NULL AS BIGINT) AS n, CAST(NULL AS STRING) AS line LIMIT 0");
        } else if (names.size() == paths.size()) {
          StructType schema = new StructType().add("name", DataTypes.StringType).add("f", DataTypes.IntegerType);
          Dataset<Row> byName = spark.createDataFrame(positions, schema);
          Dataset<Row> lines = spark.read().text(paths.toArray(new String[0]))
              .select(col("_metadata.file_name").as("name"), monotonically_increasing_id().as("n"), col("value").as("line"));
          all = lines.join(broadcast(byName), "name").select(col("f"), col("n").bitwiseAND(LINE_MASK).as("n"), col("line"));
        } else {
          // Two files share a name (the same segment in two arrival folders): one scan per file,
          // its position a literal (slower to plan: a scan each).
          for (int f = 0; f < paths.size(); f++) {
            Dataset<Row> file = spark.read().text(paths.get(f))
                .select(lit(f).as("f"), monotonically_increasing_id().bitwiseAND(LINE_MASK).as("n"), col("value").as("line"));
            all = all == null ? file : all.unionAll(file);
          }
        }
        all.createOrReplaceTempView(cmd.get("view").asText());
        return paths.size();
      }
      case "json":
        spark.read().schema(cmd.get("schema").asText()).json(cmd.get("path").asText()).createOrReplaceTempView(cmd.get("view").asText());
        return 0;
      case "table": {
        String path = cmd.get("path").asText();
        spark.sql(cmd.get("sql").asText()).write().mode("overwrite").parquet(path);
        // No row count: one more Spark job per step, and nothing reads it.
        spark.read().parquet(path).createOrReplaceTempView(cmd.get("view").asText());
        return 0;
      }
      case "hadoop": {
        Iterator<java.util.Map.Entry<String, JsonNode>> it = cmd.get("conf").fields();
        while (it.hasNext()) {
          java.util.Map.Entry<String, JsonNode> e = it.next();
          spark.sparkContext().hadoopConfiguration().set(e.getKey(), e.getValue().asText());
        }
        return 0;
      }
      case "sql":
        spark.sql(cmd.get("sql").asText()).collect();
        return 0;
      case "dump": {
        long rows = 0;
        try (BufferedWriter out = Files.newBufferedWriter(Paths.get(cmd.get("path").asText()), StandardCharsets.UTF_8)) {
          Iterator<String> it = spark.sql(cmd.get("sql").asText()).toJSON().toLocalIterator();
          while (it.hasNext()) {
            out.write(it.next());
            out.write('\n');
            rows++;
          }
        }
        return rows;
      }
      default:
        throw new IllegalArgumentException("unknown op " + cmd.path("op").asText());
    }
  }

  private BatchDriver() {}
}
