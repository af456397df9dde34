# hearth_scripted_responder: drives the scripted model (engine/scripted_model.h) from a JSON script, in
# tests and demos (`hearth serve --scripted`).
add_library(hearth_scripted_responder STATIC ${CMAKE_CURRENT_LIST_DIR}/scripted_responder.cpp)
target_link_libraries(hearth_scripted_responder PUBLIC hearth_tokenizer hearth_engine_core hearth_util
  nlohmann_json::nlohmann_json)
